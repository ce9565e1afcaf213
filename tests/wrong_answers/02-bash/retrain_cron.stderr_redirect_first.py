%%writefile bash_work/retrain.cron
# Puts 2>&1 before >> log, so errors still go to cron's mail and never reach the log.
30 2 * * * /opt/mlops/bin/retrain.sh 2>&1 >> /var/log/mlops/retrain.log
*/15 8-18 * * mon-fri /opt/mlops/bin/check_drift.sh 2>&1 >> /var/log/mlops/drift.log
