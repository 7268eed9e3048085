"""Forms: declarative definitions (forms/*.yaml), validation, drafts and submissions."""
