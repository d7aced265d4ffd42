"""Generated documentation: the reference pages written from the schemas, the kinds and the rules."""
