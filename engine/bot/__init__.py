"""The running bot: the clock and the scheduler that decide which cycles trade and which jobs run
(dry-run drives the same scheduler with simulated time)."""
