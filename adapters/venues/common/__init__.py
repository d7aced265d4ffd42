"""What every venue client shares: credentials from the environment (``secrets``), cost-unit
rate-limit pools from the rules (``ratelimit``), and one HTTP layer that maps every failure to
the port's error classes and retries only what is safe to retry (``http``)."""
