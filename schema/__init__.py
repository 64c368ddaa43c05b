"""The GraphQL API, the Starlette app (composition root) and the command line."""
