# The hypervolume of a front of scrim eval's protector rows: the area of the
# union of the boxes [0, utility] x [0, 1 - cMAP] of its points, against (0, 0).
# Used by the bench scripts: jq -L bench 'include "hypervolume"; ... | hv'.
def hv: sort_by(-.utility) | reduce .[] as $p ({hv: 0, best: 0};
          if (1 - $p.cmap) > .best then {hv: (.hv + $p.utility * ((1 - $p.cmap) - .best)), best: (1 - $p.cmap)} else . end) | .hv;
