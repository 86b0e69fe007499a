"""Notifiers: state handlers that post to Slack, webhooks and email (public: asyncflow.notifications)."""
