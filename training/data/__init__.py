"""From videos to aligned arrays on disk, and reading them back: the dataset every trainer reads."""
