"""HTTP routers, one per area. Routes parse, call one domain function, render."""
