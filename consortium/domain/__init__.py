"""Pure-Python domain of consortium deal tracking: events, state, rules and decisions."""
