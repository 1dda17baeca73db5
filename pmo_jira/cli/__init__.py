"""The command line: a thin click layer, the only code that prints or exits."""
