<?php echo "template";
