<?php $CONFIG = ['dbpassword' => 'NOT-FOR-THE-WEB'];
