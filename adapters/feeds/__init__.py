"""Market snapshot feeds for the running bot (engine.bot.feed.Feed): replay and tail."""
