"""What ward staff use: sign-in, uploads to drafts, publishing, analytics, the users command."""
