"""Where the rule-file JSON Schemas come from: a small DSL, and the generator that writes
``schemas/*.schema.json`` from the kinds' own schema fragments."""
