@echo off
rem Set up (Python venv, UI build) and start LoRA Workbench on Windows.
rem Extra arguments go to launcher.py, e.g.  start.bat --headless --open-browser
setlocal
cd /d "%~dp0"

where py >nul 2>nul && (set "PY=py -3.11") || (set "PY=python")
if not exist ".venv\Scripts\python.exe" (
  echo ==^> creating .venv
  %PY% -m venv .venv || goto :fail
)
if not exist ".venv\.installed-requirements.txt" (
  echo ==^> installing Python packages
  ".venv\Scripts\python.exe" -m pip install --quiet --upgrade pip || goto :fail
  ".venv\Scripts\python.exe" -m pip install --quiet -r requirements.txt || goto :fail
  type nul > ".venv\.installed-requirements.txt"
)
if not exist "node_modules" (
  echo ==^> installing UI packages
  call npm ci --no-audit --no-fund --loglevel=error || goto :fail
)
echo ==^> building the UI
call npm run --silent build >nul || goto :fail
".venv\Scripts\python.exe" launcher.py %*
exit /b %errorlevel%

:fail
echo Setup failed. Python 3.10-3.12 (https://www.python.org) and Node.js 20+ (https://nodejs.org) are needed.
exit /b 1
