"""One module per group of endpoints; each handler is ``(Call) -> Reply`` and raises ApiError."""
