"""Running the hub: backups and restores, the integrity check, scheduled jobs and their queue, health routes, and the
gunicorn configuration."""
