@echo off
rem Set up (Python venv, UI build) and start LoRA Workbench on Windows.
rem Extra arguments go to launcher.py, e.g.  start.bat --headless --open-browser
rem This file must keep Windows (CRLF) line endings: .gitattributes sees to it.
setlocal
cd /d "%~dp0"

rem A Python the app supports (3.11 or 3.12, see pyproject.toml): the py launcher's newest first,
rem then "python" on PATH if it is one of those versions.
set "PY="
where py >nul 2>nul || goto :try_path
for %%V in (3.12 3.11) do (
  if not defined PY (
    py -%%V -c "import venv" >nul 2>nul && set "PY=py -%%V"
  )
)
:try_path
if not defined PY (
  python -c "import sys, venv; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)" >nul 2>nul && set "PY=python"
)
if not defined PY (
  echo No Python 3.11 or 3.12 was found.
  goto :fail
)

if not exist ".venv\Scripts\python.exe" (
  echo ==^> creating .venv with %PY%
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
echo Setup failed. Python 3.11 or 3.12 (https://www.python.org) and Node.js 20.19+ (https://nodejs.org) are needed.
exit /b 1
