from pmo_jira.cli.main import main

main()
