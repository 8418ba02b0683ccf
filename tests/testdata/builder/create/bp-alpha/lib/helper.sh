say() { echo "---> $*"; }
