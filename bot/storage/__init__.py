"""The log database: conversations, feedback, audit, migrations."""
