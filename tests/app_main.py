"""Main file for NiceGUI's simulated `user` fixture: the real app, configured from the environment only."""

from galaxy_chat.app import serve
from galaxy_chat.settings import load_settings

serve(load_settings(env_file=None))
