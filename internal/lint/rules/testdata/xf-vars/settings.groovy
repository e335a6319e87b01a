// A Jenkins-style settings script: Groovy files are read for variables too.
def env = System.getenv()
def secret = env['CLOUDRON_TURN_SECRET']
