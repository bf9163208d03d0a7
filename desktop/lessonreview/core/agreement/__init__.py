"""Agreement between coders: two coders' labels of one recording compared (Cohen's kappa
and Krippendorff's alpha on time slices, the share of matching segments), the list of
their disagreements, and the consensus pass that records a final label and who agreed.
Reads and writes through the store; never looks at video."""
