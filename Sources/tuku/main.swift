print("tuku")
