"""The HTTP routes, one module per concern; catalog/app.py assembles them."""
