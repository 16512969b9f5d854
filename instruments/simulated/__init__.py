"""Simulated forms of the devices, the labs behind them and the rehearsal IOC: the only place in
instruments that imports `simulators`."""
