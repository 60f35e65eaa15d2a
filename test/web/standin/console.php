<?php echo "console";
