"""The PHO practice and patient assistant."""
