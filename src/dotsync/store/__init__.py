"""The store port: how dotsync reads the shop and writes subscription changes back."""
