from galaxy_chat.cli import main

main()
