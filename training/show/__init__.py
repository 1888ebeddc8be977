"""The product path: the image show's model, its training, its cut rule, its export, and `show make`."""
