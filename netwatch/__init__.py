"""netwatch: network and device health monitor for a city police bureau."""
