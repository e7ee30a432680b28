"""An example third-party dgen plugin: the ``casefolder`` task and the ``dihedral`` mask augmenter."""

__version__ = "0.1.0"
