from spotter.cli import main

main()
