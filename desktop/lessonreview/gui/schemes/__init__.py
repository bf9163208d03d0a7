"""The coding schemes a coder codes with: the scheme editor (behaviours' names, keys,
colours, definitions, state or point) and a scheme's file export and import."""
