from rexeval.cli import main

main()
