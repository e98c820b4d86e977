"""Webhook subscriptions and their signed, at-least-once deliveries from the event outbox."""
