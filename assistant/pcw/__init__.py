"""Partnership Community Worker work: referrals and follow-up tasks."""
