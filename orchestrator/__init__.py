"""The loop, the event log, the store, executors and the CLI. The only room that imports the others."""
