"""Who calls: authentication settings, bearer token verification, and the request's caller."""
