"""A desk on several hosts (DESIGN 11): one ``peaktrade agent`` per host claims, launches and watches runs."""
