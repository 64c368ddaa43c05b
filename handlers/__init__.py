"""The write side: commands, the Order aggregate, command handlers and the CommandBus."""
