"""The ccdsl runtime: executes compiled IR. It never imports `compiler/`."""
