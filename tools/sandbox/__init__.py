"""The python tool's sandbox: a separate, limited process under bubblewrap, else Landlock (see python_sandbox)."""
