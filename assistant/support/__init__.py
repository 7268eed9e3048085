"""Practice support: the staff chat, tickets, routing, due times and the team inbox."""
