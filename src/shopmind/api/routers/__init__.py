"""One router per area; app.py mounts them."""
