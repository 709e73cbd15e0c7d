"""Settings modules: ``base`` serves development and production (they differ only by
environment); ``test`` adds the test-only ledger bypass on top of it."""
