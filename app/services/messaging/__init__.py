"""Messages: templates and their sandbox, composition, the outbox, tracking and unsubscribe."""
