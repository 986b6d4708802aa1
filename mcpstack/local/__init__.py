"""The local runtime: builds the catalog's images and runs the stack on the local Docker engine."""
