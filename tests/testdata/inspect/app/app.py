import sys

print(f"inspect app says {sys.argv[1:]}")
