"""Online user state, profiles and behaviour analytics."""
