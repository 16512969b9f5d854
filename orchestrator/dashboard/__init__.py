"""The dashboard: a campaign's event log in a browser, live or step by step, with a JSON API,
Prometheus metrics, and control for the holder of the campaign's token. (Nothing is imported
here: the CLI reads the address helpers without loading the web stack.)"""
