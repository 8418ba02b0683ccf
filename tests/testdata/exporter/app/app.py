import os
import sys

print(f"app says: {os.environ.get('GREETING', '?')}; args={sys.argv[1:]}")
with open(os.environ["DEP_FILE"]) as f:
    print(f.read().strip())
